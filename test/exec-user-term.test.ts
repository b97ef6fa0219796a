// Issue 19, bugs 3 and 7: -t gives TERM=xterm in run and exec (unless the user or the
// image set TERM), and exec -u takes names and uid-only forms as run -u does.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mycr } from "./helpers/mycr";
import { busyboxRootfs } from "./helpers/rootfs";

let rootfs: string;
const name = `exec-user-${process.pid}`;
beforeAll(async () => {
  rootfs = busyboxRootfs();
  const r = await mycr(["run", "-d", "--name", name, "--network", "none", "--rootfs", rootfs, "sleep", "600"]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
});
afterAll(async () => {
  await mycr(["rm", "-f", name]);
});

test("run -t and exec -t set TERM=xterm; -e TERM wins; no terminal, no TERM", async () => {
  // -t alone: a terminal without input, its output reaches us with the terminal's \r\n
  const run = await mycr(["run", "-t", "--network", "none", "--rootfs", rootfs, "--", "sh", "-c", "echo TERM=$TERM"]);
  expect(run.stdout).toBe("TERM=xterm\r\n");
  const own = await mycr(["run", "-t", "-e", "TERM=vt100", "--network", "none", "--rootfs", rootfs, "--", "sh", "-c", "echo TERM=$TERM"]);
  expect(own.stdout).toBe("TERM=vt100\r\n");
  const plain = await mycr(["run", "--network", "none", "--rootfs", rootfs, "--", "sh", "-c", "echo TERM=$TERM"]);
  expect(plain.stdout).toBe("TERM=\n");

  expect((await mycr(["exec", "-t", name, "sh", "-c", "echo TERM=$TERM"])).stdout).toBe("TERM=xterm\r\n");
  expect((await mycr(["exec", "-t", "-e", "TERM=screen", name, "sh", "-c", "echo TERM=$TERM"])).stdout).toBe("TERM=screen\r\n");
  expect((await mycr(["exec", name, "sh", "-c", "echo TERM=$TERM"])).stdout).toBe("TERM=\n");
}, 60_000);

test("exec -u NAME and -u UID look the user up in the container's files, as run -u", async () => {
  const byName = await mycr(["exec", "-u", "nobody", name, "sh", "-c", "id; echo $HOME"]);
  expect(byName).toMatchObject({ exitCode: 0, stdout: "uid=65534(nobody) gid=65534(nogroup) groups=29(audio),65534(nogroup)\n/nonexistent\n" });
  const run = await mycr(["run", "-u", "nobody", "--network", "none", "--rootfs", rootfs, "--", "sh", "-c", "id; echo $HOME"]);
  expect(run.stdout).toBe(byName.stdout);
  // a uid alone takes its passwd entry's group; one without an entry gets gid 0 (docker)
  expect((await mycr(["exec", "-u", "65534", name, "id"])).stdout).toBe("uid=65534(nobody) gid=65534(nogroup) groups=29(audio),65534(nogroup)\n");
  expect((await mycr(["exec", "-u", "4242", name, "id"])).stdout).toBe("uid=4242 gid=0(root) groups=0(root)\n");
  expect((await mycr(["exec", "-u", "app:audio", name, "id"])).stdout).toBe("uid=1000(app) gid=29(audio) groups=29(audio)\n");
  const unknown = await mycr(["exec", "-u", "nosuch", name, "id"]);
  expect([unknown.exitCode, unknown.stdout, unknown.stderr]).toEqual([125, "", "mycr: unable to find user nosuch: no matching entries in the container's /etc/passwd\n"]);
  const bad = await mycr(["exec", "-u", "a:b:c", name, "id"]);
  expect([bad.exitCode, bad.stderr]).toEqual([125, 'mycr: -u "a:b:c": expected USER[:GROUP], names or numbers\n']);
}, 60_000);
