// The signals a foreground run passes on to its container, with nothing loaded: the
// client of a served run (engine/served-run-client.ts) catches them before any other module.
export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
