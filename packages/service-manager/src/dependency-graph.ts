import { ServiceDependencyError } from './errors.js';

/**
 * Checks that every dependency is registered and that there is no cycle. Errors name the
 * services involved: `"api" depends on unknown service "db"`, or the cycle `a -> b -> a`.
 */
export function validateDependencies(dependsOn: ReadonlyMap<string, readonly string[]>): void {
  for (const [name, dependencies] of dependsOn) {
    for (const dependency of dependencies) {
      if (!dependsOn.has(dependency)) throw new ServiceDependencyError(`"${name}" depends on unknown service "${dependency}"`);
    }
  }
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    const index = path.indexOf(name);
    if (index !== -1) throw new ServiceDependencyError(`dependency cycle: ${[...path.slice(index), name].join(' -> ')}`);
    path.push(name);
    for (const dependency of dependsOn.get(name) ?? []) visit(dependency);
    path.pop();
    done.add(name);
  };
  for (const name of dependsOn.keys()) visit(name);
}

/** For each service, the services that depend on it directly. */
export function dependentsOf(dependsOn: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const dependents = new Map<string, string[]>([...dependsOn.keys()].map((name) => [name, []]));
  for (const [name, dependencies] of dependsOn) for (const dependency of dependencies) dependents.get(dependency)?.push(name);
  return dependents;
}
