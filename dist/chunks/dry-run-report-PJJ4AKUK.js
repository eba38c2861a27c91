import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-3QQWKHU6.js";import"./chunk-6RXN7FII.js";export{a as countOutcomes,d as missingSecretLines,e as objectLine,c as problemsLine,g as renderDiff,f as renderObjectLines,b as verdictLine};
