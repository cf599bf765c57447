// Module resolution hook (node:module register): `import ... from 'vpci-lab/model'` in a patch or scenario file
// resolves to this copy of the lab wherever the file lives, so it shares the running model's module instances.

interface Context { parentURL?: string }
type Next = (specifier: string, context: Context) => Promise<{ url: string }>;

let modelUrl = '';

export function initialize(data: { modelUrl: string }): void { modelUrl = data.modelUrl; }

export async function resolve(specifier: string, context: Context, next: Next): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'vpci-lab/model' && modelUrl) return { url: modelUrl, shortCircuit: true };
  return next(specifier, context);
}
