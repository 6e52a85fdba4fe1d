import { defaultServerConditions } from 'vite';

// Workspace imports resolve to src/ through the "@tributary/source" export condition, so tests
// run from source with no build step. Vite replaces its default conditions when given a list,
// so the defaults are kept beside ours.
export const sourceConditions = ['@tributary/source', ...defaultServerConditions];
