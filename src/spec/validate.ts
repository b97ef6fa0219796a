// Validation of a parsed config.json, with errors that name the JSON path:
// `config.json: process.args: must not be empty`. Types only go as deep as the
// runtime relies on; unknown fields are allowed (the spec permits extensions).
import type { Spec } from "./types";
import { HOSTNAME_RULE, hostnameProblem } from "./hostname";

export class SpecError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`config.json: ${path}: ${problem}`);
  }
}

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

function object(v: Json, path: string): Record<string, Json> {
  if (!isObject(v)) throw new SpecError(path, "must be an object");
  return v;
}

function optional<T>(o: Record<string, Json>, key: string, path: string, check: (v: Json, p: string) => T): T | undefined {
  return o[key] === undefined ? undefined : check(o[key], path ? `${path}.${key}` : key);
}

function str(v: Json, path: string): string {
  if (typeof v !== "string") throw new SpecError(path, "must be a string");
  return v;
}

function int(v: Json, path: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new SpecError(path, "must be an integer");
  return v;
}

function bool(v: Json, path: string): boolean {
  if (typeof v !== "boolean") throw new SpecError(path, "must be true or false");
  return v;
}

function array(v: Json, path: string): Json[] {
  if (!Array.isArray(v)) throw new SpecError(path, "must be an array");
  return v;
}

function strings(v: Json, path: string): string[] {
  return array(v, path).map((x, i) => str(x, `${path}[${i}]`));
}

function absolute(v: Json, path: string): string {
  const s = str(v, path);
  if (!s.startsWith("/")) throw new SpecError(path, `must be an absolute path, not "${s}"`);
  return s;
}

/** A linux.resources.devices entry: what the v1 devices files and the v2 device program can both express. */
function deviceRule(v: Json, path: string): void {
  const o = object(v, path);
  bool(o.allow, `${path}.allow`);
  optional(o, "type", path, (t, q) => {
    if (t !== "a" && t !== "c" && t !== "b") throw new SpecError(q, `must be a, c or b, not ${JSON.stringify(t)}`);
  });
  for (const key of ["major", "minor"]) {
    optional(o, key, path, (n, q) => {
      if (n !== null && (int(n, q) < -1 || (n as number) > 0xffffffff)) throw new SpecError(q, `must be a device number or -1 (any), not ${String(n)}`);
    });
  }
  optional(o, "access", path, (a, q) => {
    const s = str(a, q);
    if (![...s].every((c) => "rwm".includes(c))) throw new SpecError(q, `must be a combination of r, w and m, not "${s}"`);
  });
}

const NAMESPACE_TYPES = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];
const MOUNT_FIELDS_NUMERIC = ["containerID", "hostID", "size"];

function validateProcess(p: Record<string, Json>, path: string): void {
  const args = optional(p, "args", path, strings);
  if (args !== undefined && args.length === 0) throw new SpecError(`${path}.args`, "must not be empty");
  if (args === undefined && p.commandLine === undefined) throw new SpecError(`${path}.args`, "is required");
  absolute(p.cwd ?? (() => { throw new SpecError(`${path}.cwd`, "is required"); })(), `${path}.cwd`);
  const user = object(p.user ?? (() => { throw new SpecError(`${path}.user`, "is required"); })(), `${path}.user`);
  int(user.uid, `${path}.user.uid`);
  int(user.gid, `${path}.user.gid`);
  optional(user, "umask", `${path}.user`, int);
  optional(user, "additionalGids", `${path}.user`, (v, q) => array(v, q).map((g, i) => int(g, `${q}[${i}]`)));
  optional(p, "env", path, (v, q) =>
    strings(v, q).forEach((e, i) => {
      if (!e.includes("=")) throw new SpecError(`${q}[${i}]`, `"${e}" is not KEY=VALUE`);
    }),
  );
  optional(p, "terminal", path, bool);
  optional(p, "noNewPrivileges", path, bool);
  optional(p, "oomScoreAdj", path, int);
  optional(p, "consoleSize", path, (v, q) => {
    const o = object(v, q);
    int(o.height, `${q}.height`);
    int(o.width, `${q}.width`);
  });
  optional(p, "rlimits", path, (v, q) =>
    array(v, q).forEach((r, i) => {
      const o = object(r, `${q}[${i}]`);
      str(o.type, `${q}[${i}].type`);
      int(o.soft, `${q}[${i}].soft`);
      int(o.hard, `${q}[${i}].hard`);
    }),
  );
  optional(p, "capabilities", path, (v, q) => {
    const o = object(v, q);
    for (const set of ["bounding", "effective", "inheritable", "permitted", "ambient"]) optional(o, set, q, strings);
  });
  optional(p, "commandLine", path, str);
  optional(p, "apparmorProfile", path, str);
  optional(p, "selinuxLabel", path, str);
  optional(p, "ioPriority", path, (v, q) => {
    const o = object(v, q);
    oneOf(o.class, `${q}.class`, IO_CLASSES);
    optional(o, "priority", q, (x, xq) => inRange(x, xq, 0, 7));
  });
  optional(p, "scheduler", path, (v, q) => {
    const o = object(v, q);
    oneOf(o.policy, `${q}.policy`, SCHED_POLICIES);
    optional(o, "nice", q, (x, xq) => inRange(x, xq, -20, 19));
    optional(o, "priority", q, (x, xq) => inRange(x, xq, 0, 99));
    optional(o, "flags", q, (x, xq) => array(x, xq).forEach((flag, i) => oneOf(flag, `${xq}[${i}]`, SCHED_FLAGS)));
    for (const k of ["runtime", "deadline", "period"]) optional(o, k, q, (x, xq) => inRange(x, xq, 0, Number.MAX_SAFE_INTEGER));
  });
  optional(p, "execCPUAffinity", path, (v, q) => {
    const o = object(v, q);
    for (const k of ["initial", "final"]) optional(o, k, q, cpuList);
  });
}

const IO_CLASSES = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];
const SCHED_POLICIES = ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"];
const SCHED_FLAGS = [
  "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
  "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
];

function oneOf(v: Json, path: string, allowed: string[]): string {
  const s = str(v, path);
  if (!allowed.includes(s)) throw new SpecError(path, `must be one of ${allowed.join(", ")}, not "${s}"`);
  return s;
}

function inRange(v: Json, path: string, min: number, max: number): number {
  const n = int(v, path);
  if (n < min || n > max) throw new SpecError(path, `must be ${min} to ${max}, not ${n}`);
  return n;
}

/** A CPU list as cpuset.cpus reads it: "0-3,5". */
function cpuList(v: Json, path: string): string {
  const s = str(v, path);
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(s)) throw new SpecError(path, `must be a CPU list such as "0-3,5", not "${s}"`);
  return s;
}

/** An array of objects, each checked by `check`. */
function objects(v: Json, path: string, check: (o: Record<string, Json>, p: string) => void): void {
  array(v, path).forEach((x, i) => check(object(x, `${path}[${i}]`), `${path}[${i}]`));
}

function blockDevice(o: Record<string, Json>, p: string): void {
  inRange(o.major, `${p}.major`, 0, 0xfff);
  inRange(o.minor, `${p}.minor`, 0, 0xfffff);
}

function validateBlockIO(b: Record<string, Json>, q: string): void {
  optional(b, "weight", q, int);
  optional(b, "leafWeight", q, int);
  optional(b, "weightDevice", q, (v, p) =>
    objects(v, p, (o, op) => {
      blockDevice(o, op);
      optional(o, "weight", op, int);
      optional(o, "leafWeight", op, int);
    }),
  );
  for (const key of ["throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"]) {
    optional(b, key, q, (v, p) =>
      objects(v, p, (o, op) => {
        blockDevice(o, op);
        inRange(o.rate, `${op}.rate`, 0, Number.MAX_SAFE_INTEGER);
      }),
    );
  }
}

function validateMounts(v: Json, path: string): void {
  array(v, path).forEach((m, i) => {
    const p = `${path}[${i}]`;
    const o = object(m, p);
    absolute(o.destination, `${p}.destination`);
    optional(o, "type", p, str);
    optional(o, "source", p, str);
    optional(o, "options", p, strings);
    for (const key of ["uidMappings", "gidMappings"]) {
      optional(o, key, p, (x, q) =>
        array(x, q).forEach((e, j) => MOUNT_FIELDS_NUMERIC.forEach((f) => int(object(e, `${q}[${j}]`)[f], `${q}[${j}].${f}`))),
      );
    }
  });
}

function validateLinux(l: Record<string, Json>, path: string): void {
  optional(l, "namespaces", path, (v, q) => {
    const seen = new Set<string>();
    array(v, q).forEach((n, i) => {
      const o = object(n, `${q}[${i}]`);
      const type = str(o.type, `${q}[${i}].type`);
      if (!NAMESPACE_TYPES.includes(type)) throw new SpecError(`${q}[${i}].type`, `unknown namespace type "${type}"`);
      if (seen.has(type)) throw new SpecError(`${q}[${i}].type`, `"${type}" is listed twice`);
      seen.add(type);
      optional(o, "path", `${q}[${i}]`, absolute);
    });
  });
  optional(l, "cgroupsPath", path, (v, q) => {
    // The runtime kills whatever is in the container's cgroup when it goes: never let
    // that be a hierarchy's root or a cgroup above mycr's own.
    const s = str(v, q);
    const parts = s.split("/").filter((c) => c !== "" && c !== ".");
    // eslint-disable-next-line no-control-regex
    if (parts.length === 0 || parts.includes("..") || /[\u0000-\u001f]/.test(s)) {
      throw new SpecError(q, `must name a cgroup below the root, without "..", not "${s}"`);
    }
  });
  optional(l, "rootfsPropagation", path, (v, q) => {
    const s = str(v, q);
    if (!["private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"].includes(s)) {
      throw new SpecError(q, `unknown propagation "${s}"`);
    }
  });
  optional(l, "maskedPaths", path, (v, q) => array(v, q).forEach((x, i) => absolute(x, `${q}[${i}]`)));
  optional(l, "readonlyPaths", path, (v, q) => array(v, q).forEach((x, i) => absolute(x, `${q}[${i}]`)));
  optional(l, "mountLabel", path, str);
  optional(l, "personality", path, (v, q) => {
    const o = object(v, q);
    oneOf(o.domain, `${q}.domain`, ["LINUX", "LINUX32"]);
    optional(o, "flags", q, strings);
  });
  optional(l, "timeOffsets", path, object);
  optional(l, "intelRdt", path, object);
  optional(l, "sysctl", path, (v, q) => Object.entries(object(v, q)).forEach(([k, x]) => str(x, `${q}.${k}`)));
  optional(l, "devices", path, (v, q) =>
    array(v, q).forEach((d, i) => {
      const o = object(d, `${q}[${i}]`);
      absolute(o.path, `${q}[${i}].path`);
      const type = str(o.type, `${q}[${i}].type`);
      if (!["c", "b", "u", "p"].includes(type)) throw new SpecError(`${q}[${i}].type`, `must be c, b, u or p, not "${type}"`);
    }),
  );
  optional(l, "resources", path, (v, q) => {
    const r = object(v, q);
    optional(r, "memory", q, (m, mq) => {
      const o = object(m, mq);
      for (const k of ["limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness"]) optional(o, k, mq, int);
      for (const k of ["disableOOMKiller", "useHierarchy", "checkBeforeUpdate"]) optional(o, k, mq, bool);
    });
    optional(r, "cpu", q, (c, cq) => {
      const o = object(c, cq);
      for (const k of ["shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "idle"]) optional(o, k, cq, int);
      optional(o, "cpus", cq, str);
      optional(o, "mems", cq, str);
    });
    optional(r, "pids", q, (p, pq) => int(object(p, pq).limit, `${pq}.limit`));
    optional(r, "blockIO", q, (b, bq) => validateBlockIO(object(b, bq), bq));
    optional(r, "hugepageLimits", q, (v, hq) =>
      objects(v, hq, (o, op) => {
        const size = str(o.pageSize, `${op}.pageSize`);
        if (!/^\d+(KB|MB|GB)$/.test(size)) throw new SpecError(`${op}.pageSize`, `must be a size such as "2MB" or "1GB", not "${size}"`);
        int(o.limit, `${op}.limit`);
      }),
    );
    optional(r, "network", q, (v, nq) => {
      const o = object(v, nq);
      optional(o, "classID", nq, (x, xq) => inRange(x, xq, 0, 0xffffffff));
      optional(o, "priorities", nq, (x, xq) =>
        objects(x, xq, (e, ep) => {
          const name = str(e.name, `${ep}.name`);
          if (!/^[^\s/]{1,15}$/.test(name)) throw new SpecError(`${ep}.name`, `must be a network interface name, not "${name}"`);
          inRange(e.priority, `${ep}.priority`, 0, 0xffffffff);
        }),
      );
    });
    optional(r, "rdma", q, (v, rq) =>
      Object.entries(object(v, rq)).forEach(([dev, limits]) => {
        if (!/^[^\s/]+$/.test(dev)) throw new SpecError(rq, `"${dev}" is not an RDMA device name`);
        const o = object(limits, `${rq}.${dev}`);
        for (const k of ["hcaHandles", "hcaObjects"]) optional(o, k, `${rq}.${dev}`, (x, xq) => inRange(x, xq, 0, 0x7fffffff));
      }),
    );
    optional(r, "devices", q, (d, dq) => array(d, dq).forEach((x, i) => deviceRule(x, `${dq}[${i}]`)));
    optional(r, "unified", q, (u, uq) => Object.entries(object(u, uq)).forEach(([k, x]) => str(x, `${uq}.${k}`)));
  });
}

/** Parses and validates config.json text; throws SpecError naming the first problem. */
export function parseSpec(text: string): Spec {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SpecError("(file)", `not valid JSON: ${(e as Error).message}`);
  }
  const spec = object(json, "(top level)");
  str(spec.ociVersion ?? (() => { throw new SpecError("ociVersion", "is required"); })(), "ociVersion");
  const root = optional(spec, "root", "", object);
  if (!root) throw new SpecError("root", "is required on Linux");
  str(root.path, "root.path");
  optional(root, "readonly", "root", bool);
  optional(spec, "process", "", (v, p) => validateProcess(object(v, p), "process"));
  optional(spec, "hostname", "", (v, p) => {
    // "" is no name, as runc reads it (it sets none); anything else must be one the kernel takes
    const text = str(v, p);
    const problem = text === "" ? null : hostnameProblem(text);
    if (problem) throw new SpecError(p, `${JSON.stringify(v)}: ${problem}; use ${HOSTNAME_RULE}`);
  });
  optional(spec, "domainname", "", str);
  optional(spec, "mounts", "", (v) => validateMounts(v, "mounts"));
  optional(spec, "annotations", "", (v, p) => Object.entries(object(v, p)).forEach(([k, x]) => str(x, `annotations.${k}`)));
  optional(spec, "linux", "", (v) => validateLinux(object(v, "linux"), "linux"));
  return spec as unknown as Spec;
}
