// A container's host name: checked before anything is created, so that a bad one is a
// clear error instead of sethostname's bare EINVAL from inside init (or, worse, a name
// with '/' or a newline reaching /etc/hosts and the HOSTNAME variable).

/** The kernel's HOST_NAME_MAX: sethostname(2) refuses longer names. */
export const HOSTNAME_MAX_BYTES = 64;

/** RFC 1123 label: letters, digits and '-', not at either end, 1 to 63 characters. */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export const HOSTNAME_RULE = `letters, digits and '-' in labels separated by dots (RFC 1123), at most ${HOSTNAME_MAX_BYTES} bytes`;

/** Why `name` cannot be a host name, or null when it can (docker accepts dots: labels are checked one by one). */
export function hostnameProblem(name: string): string | null {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0) return "empty";
  if (bytes > HOSTNAME_MAX_BYTES) return `${bytes} bytes long, the kernel allows ${HOSTNAME_MAX_BYTES}`;
  const bad = name.split(".").find((label) => !LABEL.test(label));
  if (bad === undefined) return null;
  if (bad === "") return "an empty label (two dots, or a dot at an end)";
  if (bad.length > 63) return `the label ${JSON.stringify(bad)} is ${bad.length} characters, at most 63`;
  return `the label ${JSON.stringify(bad)} is not letters, digits and inner '-'`;
}
