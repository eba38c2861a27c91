import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-HPE24AEB.js";import"./chunk-6RXN7FII.js";export{a as countOutcomes,c as objectLine,e as renderDiff,d as renderObjectLines,b as verdictLine};
