import { AF_INET, SOCK_DGRAM, SOCK_CLOEXEC, SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP, IFF_RUNNING } from "./constants";
import { libc, check } from "./libc";

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
