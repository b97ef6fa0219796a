// The version, in one place: `mycr --version`, `mycr version`, `mycr info`.
export const VERSION = "0.1.0";
