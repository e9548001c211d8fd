// A throwaway PostgreSQL server for one test file. It lives in client/ now, where the local Temporal
// cluster (`pipewright dev --cluster`) starts one too; the tests keep importing it from here.
export { ensurePostgresBinaries, startPostgres, type LocalPostgres as TestPostgres } from '../../client/localPostgres';
