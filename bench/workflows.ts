// The bench worker's workflows: Pipewright's own, plus an empty one as the server's baseline.
export * from '../workflows';

export async function noop(): Promise<void> {}
