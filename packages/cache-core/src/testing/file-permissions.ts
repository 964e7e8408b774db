/**
 * Permission tests as root: root reads everything, so a test drops the capabilities that bypass
 * file permissions for the process it spawns (`setpriv`, util-linux, on every Debian). Files owned
 * by another user (`chown` to {@link OTHER_USER}) are then off limits to it, as they would be to any
 * user, while the checkout stays readable wherever it was cloned (a temporary 0700 directory, say,
 * which a switch to another user could not even enter).
 */
export const WITHOUT_FILE_CAPABILITIES = [
  'setpriv',
  '--bounding-set=-dac_override,-dac_read_search,-fowner,-chown',
  '--inh-caps=-all',
] as const;

/** Debian's `nobody`: the owner to give files this process must not touch. */
export const OTHER_USER = { uid: 65534, gid: 65534 } as const;

/** Whether permission tests can run here: as root (to chown), on Linux (for setpriv). */
export const canTestPermissions = process.getuid?.() === 0 && process.platform === 'linux';
