// What root in a container would try on a host file only the host's root may read, bound
// in at /s/secret: every way, many times. Each success prints a word SECRET_BREACH finds;
// the last line is the file's owner as the container sees it.
export const SECRET_ATTEMPT = [
  "for i in $(seq 20); do",
  "  cat /s/secret 2>/dev/null && echo READ;",
  "  cp /s/secret /tmp/x 2>/dev/null && echo COPIED;",
  "  chmod 644 /s/secret 2>/dev/null && echo CHMOD;",
  "  chown 0:0 /s/secret 2>/dev/null && echo CHOWN;",
  "  mv /s/secret /s/moved 2>/dev/null && echo MOVED;",
  "  echo x 2>/dev/null > /s/secret && echo WROTE;",
  "done; stat -c %u /s/secret",
].join("\n");

export const SECRET_BREACH = /READ|COPIED|CHMOD|CHOWN|MOVED|WROTE|root's secret/;
