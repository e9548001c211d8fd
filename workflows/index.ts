// The workflows the worker registers; bundled into Temporal's deterministic sandbox.
export { accountProgram } from './accountProgram';
export { leadJourney } from './leadJourney';
export { managerDigest } from './managerDigest';
export { repRotation } from './repRotation';
