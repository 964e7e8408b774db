import { ServiceDependencyError } from './errors.js';

/** One edge of the graph: the service depended on, and whether this one can run without it. */
export interface DependencyEdge {
  readonly name: string;
  readonly optional: boolean;
}

/**
 * The edges that count: hard dependencies, and optional ones on services that are registered
 * (an optional dependency on a missing service is no dependency at all).
 */
export function liveEdges(graph: ReadonlyMap<string, readonly DependencyEdge[]>, name: string): DependencyEdge[] {
  return (graph.get(name) ?? []).filter((edge) => !edge.optional || graph.has(edge.name));
}

/**
 * Checks that every hard dependency is registered and that there is no cycle. Errors name the
 * services involved: `"api" depends on unknown service "db"`, or the cycle `a -> b -> a`.
 */
export function validateDependencies(graph: ReadonlyMap<string, readonly DependencyEdge[]>): void {
  for (const [name, edges] of graph) {
    for (const edge of edges) {
      if (!edge.optional && !graph.has(edge.name)) throw new ServiceDependencyError(`"${name}" depends on unknown service "${edge.name}"`);
    }
  }
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    const index = path.indexOf(name);
    if (index !== -1) throw new ServiceDependencyError(`dependency cycle: ${[...path.slice(index), name].join(' -> ')}`);
    path.push(name);
    for (const edge of liveEdges(graph, name)) visit(edge.name);
    path.pop();
    done.add(name);
  };
  for (const name of graph.keys()) visit(name);
}

/** For each service, the services that depend on it directly (optional dependencies included). */
export function dependentsOf(graph: ReadonlyMap<string, readonly DependencyEdge[]>): Map<string, string[]> {
  const dependents = new Map<string, string[]>([...graph.keys()].map((name) => [name, []]));
  for (const name of graph.keys()) for (const edge of liveEdges(graph, name)) dependents.get(edge.name)?.push(name);
  return dependents;
}
