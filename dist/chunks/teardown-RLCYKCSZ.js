import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-W7OLFDOF.js";import"./chunk-T5FSFZGW.js";import"./chunk-IPEBAM3K.js";import"./chunk-RWSXLREW.js";export{b as NAMESPACE_GONE_MS,a as PROJECT_KINDS,c as isOurNamespace,d as teardownProject};
