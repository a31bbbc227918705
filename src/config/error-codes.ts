/** Stable codes of the errors the config room raises; callers and the API branch on these. */
export const ConfigErrorCode = {
  /** The declaration has problems; `details.issues` names each field and its fix. */
  InvalidConfig: 'InvalidConfig',
  /** A secret reference points at an unset variable or an unreadable file. */
  SecretMissing: 'SecretMissing',
} as const;

export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];
