/**
 * The deployment recipe against the repository, cheaply (no Docker daemon needed): every path
 * the Dockerfile copies from the build context exists and is not excluded by .dockerignore,
 * every default bundle the service reads (paths.ts) is copied into the image, what it copies
 * from the build stage is what `npm run build` writes, and every variable deploy/compose.yaml
 * gives the service is a setting of config.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SETTINGS } from '../../src/config';
import { DEFAULT_CODESET_DIR, DEFAULT_KNOWLEDGE_DIR, DEFAULT_MODEL_DIR, DEFAULT_RANKER_DIR, PROFILES_DIR, PROJECT_ROOT } from '../../src/paths';

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');

/** COPY instructions: `--from` stage (if any), sources, destination. */
function copies(dockerfile: string) {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^COPY\s/i.test(l))
    .map((l) => {
      const words = l.split(/\s+/).slice(1);
      const flags = words.filter((w) => w.startsWith('--'));
      const rest = words.filter((w) => !w.startsWith('--'));
      return { from: flags.find((f) => f.startsWith('--from='))?.slice(7), sources: rest.slice(0, -1), destination: rest[rest.length - 1] };
    });
}

/** Variables of the PostgreSQL image, not of the service. */
const IMAGE_VARIABLES: Record<string, readonly string[]> = { db: ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB'] };

/** The environment variables deploy/compose.yaml names, by the service (or `x-` block) naming them. */
function composeVariables(text: string): Map<string, Set<string>> {
  const byOwner = new Map<string, Set<string>>();
  let top = '';
  let service = '';
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    const key = /^\s*([A-Za-z0-9_.-]+):/.exec(line)?.[1];
    if (indent === 0 && key) {
      top = key;
      service = '';
      continue;
    }
    if (top === 'services' && indent === 2 && key) service = key;
    if (key && /^[A-Z][A-Z0-9_]*$/.test(key)) {
      const owner = top === 'services' ? service : top;
      if (!byOwner.has(owner)) byOwner.set(owner, new Set());
      byOwner.get(owner)!.add(key);
    }
  }
  return byOwner;
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = copies(dockerfile);
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  test('copies from the context only paths that exist and that .dockerignore lets through', () => {
    const fromContext = instructions.filter((c) => !c.from).flatMap((c) => c.sources);
    expect(fromContext.length).toBeGreaterThan(5);
    for (const source of fromContext) {
      expect({ source, exists: existsSync(path.join(PROJECT_ROOT, source)) }).toEqual({ source, exists: true });
      const excluded = ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`));
      expect({ source, excluded }).toEqual({ source, excluded: false });
    }
  });

  test('copies every default bundle and the FHIR definitions the service reads', () => {
    const runtimeSources = instructions.filter((c) => !c.from && c.destination.startsWith('./')).flatMap((c) => c.sources);
    for (const dir of [DEFAULT_MODEL_DIR, DEFAULT_CODESET_DIR, DEFAULT_KNOWLEDGE_DIR, DEFAULT_RANKER_DIR, PROFILES_DIR]) {
      expect(runtimeSources).toContain(path.relative(PROJECT_ROOT, dir));
    }
  });

  test('takes from the build stage what npm run build writes, production dependencies only, runs as a non-root user with a health check', () => {
    const outDir = (JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { outDir: string } }).compilerOptions.outDir;
    const fromBuild = instructions.filter((c) => c.from === 'build').flatMap((c) => c.sources);
    expect(fromBuild.sort()).toEqual([`/app/${outDir}`, '/app/node_modules'].sort());
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    // The entry point is the compiled main.
    expect(read('package.json')).toContain('"main": "dist/main.js"');
  });
});

describe('deploy/compose.yaml', () => {
  const variables = composeVariables(read('deploy/compose.yaml'));
  const known = new Set(Object.values(SETTINGS).map((s) => s.env));

  test('names only settings of config.ts', () => {
    expect(variables.get('x-env')?.has('STORE_URL')).toBe(true);
    for (const [owner, names] of variables) {
      for (const name of names) {
        if (IMAGE_VARIABLES[owner]?.includes(name)) continue;
        const ok = known.has(name);
        expect({ owner, name, ok }).toEqual({ owner, name, ok: true });
      }
    }
  });

  test('two API replicas and a worker on PostgreSQL with a volume', () => {
    const text = read('deploy/compose.yaml');
    expect(text.match(/ROLE: api$/gm)).toHaveLength(2);
    expect(text.match(/ROLE: worker$/gm)).toHaveLength(1);
    expect(text).toMatch(/STORE_URL: postgres:\/\//);
    expect(text).toMatch(/- pgdata:\/var\/lib\/postgresql\/data/);
  });
});
