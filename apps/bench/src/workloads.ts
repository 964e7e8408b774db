const WORDS = [
  'agent',
  'profile',
  'task',
  'delegate',
  'review',
  'context',
  'memory',
  'project',
  'deliverable',
  'requirement',
  'tool',
  'rules',
];
const CJK = '提示词缓存代理配置任务上下文记忆项目交付要求工具规则审查委派';

/** A prompt of about `bytes` characters: ASCII prose, or CJK text (two-byte in V8). */
export function makePrompt(seed: number, chars: number, cjk = false): string {
  const parts: string[] = [`#${seed} `];
  let length = parts[0]!.length;
  let i = seed;
  while (length < chars) {
    const part = cjk ? CJK.slice(i % 20, (i % 20) + 6) : `${WORDS[i % WORDS.length]!} `;
    parts.push(part);
    length += part.length;
    i = (i * 1103515245 + 12345) >>> 0;
  }
  // join() yields a flat sequential string, as a prompt read from a file or a template is.
  return parts.join('');
}

/** A profile-like object with `fields` small settings, built by parsing JSON as loaded profiles are. */
export function makeProfile(seed: number, fields: number): unknown {
  const settings: Record<string, unknown> = {};
  for (let i = 0; i < fields; i++) {
    const kind = (seed + i) % 4;
    settings[`setting_${i}`] =
      kind === 0
        ? `v${seed % 97}-${i}`
        : kind === 1
          ? (seed * 31 + i) % 1000
          : kind === 2
            ? (seed + i) % 3 === 0
            : `${WORDS[i % WORDS.length]!}-${seed}`;
  }
  const text = JSON.stringify({
    name: `agent-${seed}`,
    version: `1.${seed % 10}.0`,
    description: `Profile ${seed}: ${WORDS.join(' ')}`,
    capabilities: WORDS.map((w, i) => `${w}-${(seed + i) % 50}`),
    settings,
  });
  return JSON.parse(text) as unknown;
}
