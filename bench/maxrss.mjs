// Loaded with `node --import`: prints the process's peak resident set size (KiB, as Node reports it) as
// one JSON line on stderr at exit, so a parent can read peak host memory without polling /proc.
process.on('exit', () => {
  process.stderr.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
});
