// imgb's own version, and the Packer version whose template semantics it follows
// (`{{packer_version}}`, `packer.version`, `min_packer_version`, `required_version`).
export const IMGB_VERSION = "0.1.0";
export const PACKER_COMPAT_VERSION = "1.9.5";
