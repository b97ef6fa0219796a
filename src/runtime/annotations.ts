// Annotations through which mycr's own front end asks the runtime for things the
// runtime-spec has no field for (docs/spec-extensions.md).

/** `USER[:GROUP]` by name or number, resolved by init against the container's /etc/passwd and /etc/group. */
export const USER_ANNOTATION = "org.mycr.user";

/** "true": PID 1 stays mycr, reaps zombies and passes signals on (`mycr run --init`). */
export const INIT_ANNOTATION = "org.mycr.init";
