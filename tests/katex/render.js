// Renders LaTeX strings with KaTeX, answering each as it arrives (tests/katex_render.py
// keeps one such process per pytest process).
// Input (stdin): one JSON string per line. Output (stdout): one JSON line per input line,
// null when KaTeX renders the string, else KaTeX's error message.
// Display mode, throwOnError, and strict: "error", so that what KaTeX would only warn
// about (Unicode text in math mode, other non-standard input) is a rejection too.
"use strict";
const katex = require("katex");
const readline = require("readline");

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  let answer = null;
  try {
    katex.renderToString(JSON.parse(line), { displayMode: true, throwOnError: true, strict: "error" });
  } catch (err) {
    answer = String(err.message);
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
