import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{a,b,c,d,e,f}from"./chunk-YNVKBCYK.js";import"./chunk-KER6KRPN.js";import"./chunk-RWSXLREW.js";export{c as ACTIONS_BOT,b as ENVIRONMENT_OUTCOME_TEXT,a as ENVIRONMENT_PERMISSION_HINT,e as GitHubPreview,f as GitHubPulls,d as commentMarker};
