import { Ajv } from 'ajv';
import { parseAllDocuments, LineCounter } from 'yaml';
const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true });
const v = ajv.compile({ type: 'object', additionalProperties: false, required: ['a'], properties: {
  a: { type: 'integer', minimum: 1, maximum: 10 },
  pool: { type: 'object', default: {}, additionalProperties: false, properties: { max: { type: 'integer', default: 5 }, s: {type:'string', enum:['x','y']} } },
  arr: { type: 'array', items: { type: 'object', properties: { w: { type: 'integer', default: 1 } } } },
}});
const d: any = { a: 50, b: 1, arr: [{}, {w: 'x'}], pool: {s: 'z'} };
console.log(v(d), JSON.stringify(d));
for (const e of v.errors!) console.log(e.keyword, e.instancePath, JSON.stringify(e.params), e.message, typeof e.parentSchema);
const d2: any = { a: 5, arr: [{}] };
console.log(v(d2), JSON.stringify(d2));
console.log(v({a: Infinity}), v.errors?.[0]?.message);
const lc = new LineCounter();
const docs = parseAllDocuments('a: 1\nb: [1, 2\n---\nc: d\n---\nx: 1\nx: 2\n---\n# only comment\n---\n', { lineCounter: lc, prettyErrors: false });
console.log(Array.isArray(docs));
for (const doc of docs as any[]) { console.log(doc.range, doc.contents === null, doc.errors.map((e: any) => [e.code, e.message, e.pos, lc.linePos(e.pos[0])]), doc.warnings.length); }
