// JSONata syntax highlighting for CodeMirror 6, as a small stream tokenizer (no JSONata grammar package exists for CM6).
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from "@codemirror/language";
import { tags as t } from "@lezer/highlight";

interface State {
  comment: boolean;
}

const KEYWORDS = new Set(["and", "or", "in", "function"]);
const ATOMS = new Set(["true", "false", "null"]);

function token(stream: StringStream, state: State): string | null {
  if (state.comment) {
    if (stream.skipTo("*/")) {
      stream.match("*/");
      state.comment = false;
    } else stream.skipToEnd();
    return "comment";
  }
  if (stream.eatSpace()) return null;
  if (stream.match("/*")) {
    state.comment = true;
    return "comment";
  }
  const ch = stream.peek()!;
  if (ch === '"' || ch === "'") {
    stream.next();
    let escaped = false;
    for (let c = stream.next(); c !== undefined; c = stream.next()) {
      if (c === ch && !escaped) break;
      escaped = !escaped && c === "\\";
    }
    return "string";
  }
  if (ch === "`") {
    stream.next();
    stream.skipTo("`") ? stream.next() : stream.skipToEnd();
    return "propertyName";
  }
  if (stream.match(/^-?\d+(\.\d+)?([eE][+-]?\d+)?/)) return "number";
  if (stream.match(/^\$[A-Za-z_0-9]*/)) return stream.peek() === "(" ? "variableName.function" : "variableName";
  if (stream.match(/^[A-Za-z_][A-Za-z_0-9]*/)) {
    const word = stream.current();
    if (KEYWORDS.has(word)) return "keyword";
    if (ATOMS.has(word)) return "atom";
    return "propertyName";
  }
  if (stream.match(/^(:=|~>|!=|<=|>=|\.\.|\?:|\?\?|[-+*/%&=<>!?:^#@.,;|])/)) return "operator";
  if (stream.match(/^[()[\]{}]/)) return "bracket";
  stream.next();
  return null;
}

export const jsonataLanguage = StreamLanguage.define<State>({
  name: "jsonata",
  startState: () => ({ comment: false }),
  token,
  languageData: { commentTokens: { block: { open: "/*", close: "*/" } }, closeBrackets: { brackets: ["(", "[", "{", '"', "'"] } },
});

export const jsonataHighlight = syntaxHighlighting(
  HighlightStyle.define([
    { tag: t.comment, color: "#6b7280", fontStyle: "italic" },
    { tag: t.string, color: "#047857" },
    { tag: t.number, color: "#b45309" },
    { tag: t.atom, color: "#b45309" },
    { tag: t.keyword, color: "#7c3aed", fontWeight: "600" },
    { tag: t.variableName, color: "#be185d" },
    { tag: t.function(t.variableName), color: "#1d4ed8" },
    { tag: t.propertyName, color: "#0f172a" },
    { tag: t.operator, color: "#64748b" },
    { tag: t.bracket, color: "#64748b" },
  ]),
);
