import { AF_INET, SOCK_DGRAM, SOCK_CLOEXEC, SIOCBRDELBR, SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP, IFF_RUNNING } from "./constants";
import { libc, check, errno } from "./libc";

/** Brings an interface up (ifconfig NAME up) in the caller's network namespace. */
export function linkUp(name: string): void {
  const fd = check(libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket", "AF_INET, SOCK_DGRAM");
  try {
    const ifr = new Uint8Array(40); // struct ifreq: char ifr_name[16]; short ifr_flags; ...
    ifr.set(Buffer.from(name).subarray(0, 15));
    check(libc.ioctl(fd, SIOCGIFFLAGS, ifr), "ioctl", `SIOCGIFFLAGS, ${name}`);
    const view = new DataView(ifr.buffer);
    view.setInt16(16, view.getInt16(16, true) | IFF_UP | IFF_RUNNING, true);
    check(libc.ioctl(fd, SIOCSIFFLAGS, ifr), "ioctl", `SIOCSIFFLAGS, ${name}`);
  } finally {
    libc.close(fd);
  }
}

const ENODEV = 19;

/**
 * Deletes a bridge device (brctl delbr NAME): down first, as the kernel refuses to
 * delete a bridge that is up. The kernel refuses (EPERM) if NAME is not a bridge.
 * Returns false when there is no such device.
 */
export function deleteBridge(name: string): boolean {
  const fd = check(libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket", "AF_INET, SOCK_DGRAM");
  try {
    const ifr = new Uint8Array(40);
    ifr.set(Buffer.from(name).subarray(0, 15));
    if (libc.ioctl(fd, SIOCGIFFLAGS, ifr) < 0) {
      if (errno() === ENODEV) return false;
      check(-1, "ioctl", `SIOCGIFFLAGS, ${name}`);
    }
    const view = new DataView(ifr.buffer);
    view.setInt16(16, view.getInt16(16, true) & ~IFF_UP, true);
    check(libc.ioctl(fd, SIOCSIFFLAGS, ifr), "ioctl", `SIOCSIFFLAGS, ${name}`);
    const cname = new Uint8Array(16); // the ioctl copies IFNAMSIZ bytes
    cname.set(Buffer.from(name).subarray(0, 15));
    check(libc.ioctl(fd, SIOCBRDELBR, cname), "ioctl", `SIOCBRDELBR, ${name}`);
    return true;
  } finally {
    libc.close(fd);
  }
}
