/**
 * Hugging Face hub client: list a repo, pull its files into a model folder (resumable, verified).
 * @module
 */
export { HubError, type HubErrorCode } from './hub-error.js'
export { DEFAULT_INCLUDE, matchesAny } from './include-patterns.js'
export {
  DEFAULT_ENDPOINT,
  type PulledFile,
  type PullOptions,
  type PullProgress,
  type PullResult,
  pullModel,
  repoFolderName,
  resolveUrl,
} from './pull-model.js'
export { listRepoFiles, type RepoFile, type RepoListing } from './repo-files.js'
