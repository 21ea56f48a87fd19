// Summarise a V8 .cpuprofile (node --cpu-prof): where the CPU time went.
// usage: node bench/tools/cpuprofile-top.mjs FILE.cpuprofile [TOP=25] [REPO_DIR]
// Prints markdown: time by category, the TOP functions by self time, and self
// time by file. Percentages are of busy time (all samples except "(idle)").
import { readFileSync } from 'node:fs';

const [file, topArg = '25', repoArg = process.cwd()] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpuprofile-top.mjs FILE.cpuprofile [TOP] [REPO_DIR]');
  process.exit(2);
}
const top = Number(topArg) || 25;
const repoUrl = `file://${repoArg.replace(/\/$/, '')}/`;
const prof = JSON.parse(readFileSync(file, 'utf8'));

const nodes = new Map();
for (const n of prof.nodes) nodes.set(n.id, n);

// time per sample: until the next sample (the last one gets the mean interval)
const samples = prof.samples ?? [];
const deltas = prof.timeDeltas ?? [];
const total = (prof.endTime ?? 0) - (prof.startTime ?? 0);
const mean = samples.length ? total / samples.length : 0;
const selfUs = new Map(); // node id -> µs
for (let i = 0; i < samples.length; i++) {
  const d = i + 1 < deltas.length ? Math.max(0, deltas[i + 1]) : mean;
  selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + d);
}

const where = (cf) => {
  let url = cf.url || '';
  if (url.startsWith(repoUrl)) url = url.slice(repoUrl.length);
  else if (url.startsWith('file://')) url = url.slice(7);
  return url ? `${url}:${cf.lineNumber + 1}` : '';
};
const category = (cf) => {
  const name = cf.functionName;
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)' || name === '(root)') return name;
  const url = cf.url || '';
  if (!url) return '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node: internals';
  if (url.includes('/node_modules/')) return 'node_modules';
  if (url.startsWith(repoUrl)) {
    const parts = url.slice(repoUrl.length).split('/');
    const depth = parts[0] === 'dist' ? (parts[2] === 'plugins' ? 4 : 3) : 2;
    return `project: ${parts.slice(0, Math.min(depth, parts.length - 1)).join('/') || parts[0]}`;
  }
  return 'other';
};

const byFn = new Map();
const byFile = new Map();
const byCat = new Map();
let busy = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const cf = nodes.get(id)?.callFrame;
  if (!cf) continue;
  if (cf.functionName === '(idle)') { idle += us; continue; }
  busy += us;
  const key = `${cf.functionName || '(anonymous)'}\t${where(cf)}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  const f = cf.url ? where({ ...cf, lineNumber: -1 }).replace(/:0$/, '') : cf.functionName.startsWith('(') ? cf.functionName : `(${cf.functionName || 'no url'})`;
  byFile.set(f, (byFile.get(f) ?? 0) + us);
  const c = category(cf);
  byCat.set(c, (byCat.get(c) ?? 0) + us);
}
const cell = (s) => s.replace(/\|/g, '\\|');
const pct = (us) => (busy > 0 ? ((us / busy) * 100).toFixed(1) : '0.0');
const ms = (us) => (us / 1000).toFixed(0);
const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);

console.log(`Profile: ${samples.length} samples over ${(total / 1e6).toFixed(1)} s; busy ${ms(busy)} ms, idle ${ms(idle)} ms (percentages below are of busy time).`);
console.log('');
console.log('| category | self ms | % |');
console.log('|---|---:|---:|');
for (const [c, us] of sorted(byCat)) console.log(`| ${c} | ${ms(us)} | ${pct(us)} |`);
console.log('');
console.log(`Top ${top} functions by self time:`);
console.log('');
console.log('| # | self ms | % | function | location |');
console.log('|---:|---:|---:|---|---|');
sorted(byFn).slice(0, top).forEach(([key, us], i) => {
  const [fn, loc] = key.split('\t');
  const name = fn.length > 70 ? `${fn.slice(0, 67)}...` : fn;
  console.log(`| ${i + 1} | ${ms(us)} | ${pct(us)} | \`${cell(name)}\` | ${cell(loc || '-')} |`);
});
console.log('');
console.log('Self time by file (top 15):');
console.log('');
console.log('| file | self ms | % |');
console.log('|---|---:|---:|');
for (const [f, us] of sorted(byFile).slice(0, 15)) console.log(`| ${cell(f.length > 70 ? `${f.slice(0, 67)}...` : f)} | ${ms(us)} | ${pct(us)} |`);
