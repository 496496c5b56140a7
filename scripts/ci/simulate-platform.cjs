// Preloaded into npm (NODE_OPTIONS=--require) to make it see another platform: npm checks a required
// package's os/cpu against process.platform/process.arch, while --os/--cpu only steer optional ones.
const platform = process.env.SIMULATED_PLATFORM;
const arch = process.env.SIMULATED_ARCH;
if (platform) {
  Object.defineProperty(process, "platform", { value: platform });
}
if (arch) {
  Object.defineProperty(process, "arch", { value: arch });
}
