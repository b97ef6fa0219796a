// Project quotas (xfs, ext4 with the quota+project features mounted with prjquota): a
// directory gets a project id that its new files inherit, and the filesystem limits the
// blocks of that project. Both filesystems take the XFS-style quotactl commands (ext4
// through the kernel's generic quota layer), so one set of calls serves both.
// Layouts and numbers: include/uapi/linux/fs.h, dqblk_xfs.h, quota.h (same on x86_64 and aarch64).
import { ptr } from "bun:ffi";
import { SYS } from "./arch";
import { check, cstr, errno, libc, syscall } from "./libc";
import { SysError } from "./errno";

const FS_IOC_FSGETXATTR = 0x801c581f;
const FS_IOC_FSSETXATTR = 0x401c5820;
const FSXATTR_SIZE = 28; // struct fsxattr: xflags@0, extsize, nextents, projid@12, cowextsize, pad[8]
const FS_XFLAG_PROJINHERIT = 0x200;

const PRJQUOTA = 2;
const Q_XGETQUOTA = 0x5803;
const Q_XSETQLIM = 0x5804;
const Q_XGETQSTATV = 0x5808;
const qcmd = (cmd: number, type: number) => (cmd << 8) | (type & 0xff);

const FS_DISK_QUOTA_SIZE = 112; // struct fs_disk_quota
const FS_DQUOT_VERSION = 1;
const FS_PROJ_QUOTA = 2;
const FS_DQ_BSOFT = 0x4;
const FS_DQ_BHARD = 0x8;
const BASIC_BLOCK = 512; // d_blk_* count 512-byte "basic blocks"

const FS_QUOTA_STATV_SIZE = 160; // struct fs_quota_statv, qs_flags@2
const FS_QSTATV_VERSION1 = 1;
const FS_QUOTA_PDQ_ACCT = 0x10;
const FS_QUOTA_PDQ_ENFD = 0x20;

const ENOSYS = 38;

/** Where quotactl reaches a filesystem: any fd on it; the block device for kernels before 5.14. */
export interface QuotaTarget {
  fd: number;
  /** The filesystem's device, asked for only when the kernel has no quotactl_fd. */
  device: () => string | null;
}

function fsxattr(fd: number): DataView {
  const buf = new Uint8Array(FSXATTR_SIZE);
  check(libc.ioctl(fd, FS_IOC_FSGETXATTR, buf), "ioctl", `${fd}, FS_IOC_FSGETXATTR`);
  return new DataView(buf.buffer);
}

/** The project id of the file `fd` is open on (0: none). */
export function getProjectId(fd: number): number {
  return fsxattr(fd).getUint32(12, true);
}

/** Gives the directory `fd` the project id `id`, inherited by what is created in it (0 clears both). */
export function setProjectId(fd: number, id: number): void {
  const view = fsxattr(fd);
  const flags = view.getUint32(0, true);
  view.setUint32(0, id === 0 ? flags & ~FS_XFLAG_PROJINHERIT : flags | FS_XFLAG_PROJINHERIT, true);
  view.setUint32(12, id, true);
  check(libc.ioctl(fd, FS_IOC_FSSETXATTR, new Uint8Array(view.buffer)), "ioctl", `${fd}, FS_IOC_FSSETXATTR, projid ${id}`);
}

function quotactl(target: QuotaTarget, cmd: number, id: number, buf: Uint8Array, what: string): void {
  let r = syscall(SYS.quotactl_fd, target.fd, cmd, id, ptr(buf));
  if (Number(r) < 0 && errno() === ENOSYS) {
    // quotactl_fd came in Linux 5.14; before it quotactl names the block device.
    const device = target.device();
    if (device === null) throw new SysError("quotactl_fd", what, ENOSYS);
    const dev = cstr(device);
    r = syscall(SYS.quotactl, cmd, ptr(dev), id, ptr(buf));
    check(r, "quotactl", `${device}, ${what}`);
    return;
  }
  check(r, "quotactl_fd", what);
}

export interface ProjectQuotaState {
  /** The filesystem counts blocks per project. */
  accounting: boolean;
  /** ... and refuses writes past a project's limit. */
  enforcing: boolean;
}

/** Whether the filesystem under `target` counts and enforces project quotas; throws SysError when it has no quota interface. */
export function projectQuotaState(target: QuotaTarget): ProjectQuotaState {
  const buf = new Uint8Array(FS_QUOTA_STATV_SIZE);
  buf[0] = FS_QSTATV_VERSION1;
  quotactl(target, qcmd(Q_XGETQSTATV, PRJQUOTA), 0, buf, "Q_XGETQSTATV");
  const flags = new DataView(buf.buffer).getUint16(2, true);
  return { accounting: (flags & FS_QUOTA_PDQ_ACCT) !== 0, enforcing: (flags & FS_QUOTA_PDQ_ENFD) !== 0 };
}

/** Sets project `id`'s block limit (soft = hard) to `bytes`, rounded up to 512; 0 removes the limit. */
export function setProjectBlockLimit(target: QuotaTarget, id: number, bytes: number): void {
  const buf = new Uint8Array(FS_DISK_QUOTA_SIZE);
  const view = new DataView(buf.buffer);
  const blocks = BigInt(Math.ceil(bytes / BASIC_BLOCK));
  view.setInt8(0, FS_DQUOT_VERSION);
  view.setInt8(1, FS_PROJ_QUOTA);
  view.setUint16(2, FS_DQ_BSOFT | FS_DQ_BHARD, true);
  view.setUint32(4, id, true);
  view.setBigUint64(8, blocks, true);
  view.setBigUint64(16, blocks, true);
  quotactl(target, qcmd(Q_XSETQLIM, PRJQUOTA), id, buf, `Q_XSETQLIM, project ${id}, ${bytes} bytes`);
}

export interface ProjectQuota {
  /** Bytes; 0 when there is no limit. */
  limit: number;
  used: number;
}

/** Project `id`'s limit and usage; null when the filesystem holds nothing for it (ENOENT, ESRCH). */
export function getProjectQuota(target: QuotaTarget, id: number): ProjectQuota | null {
  const buf = new Uint8Array(FS_DISK_QUOTA_SIZE);
  try {
    quotactl(target, qcmd(Q_XGETQUOTA, PRJQUOTA), id, buf, `Q_XGETQUOTA, project ${id}`);
  } catch (e) {
    if (e instanceof SysError && (e.errno === 2 || e.errno === 3)) return null;
    throw e;
  }
  const view = new DataView(buf.buffer);
  return { limit: Number(view.getBigUint64(8, true)) * BASIC_BLOCK, used: Number(view.getBigUint64(40, true)) * BASIC_BLOCK };
}
