import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-CDTVYPZY.js";import"./chunk-2PPAPHE5.js";import"./chunk-ZN3XQG7L.js";import"./chunk-VSZ5SVKH.js";import"./chunk-NW7PKYAF.js";export{b as NAMESPACE_GONE_MS,a as PROJECT_KINDS,c as isOurNamespace,d as teardownProject};
