// A CodeMirror 6 editor for one JSONata expression; marks the error position it is given.
import { useEffect, useRef } from "react";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, placeholder as placeholderExt, drawSelection } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching } from "@codemirror/language";
import { setDiagnostics } from "@codemirror/lint";
import { jsonataHighlight, jsonataLanguage } from "./jsonata";

export interface ExprError {
  message: string;
  position?: number;
}

interface Props {
  value: string;
  onChange: (value: string) => void;
  error?: ExprError | null;
  placeholder?: string;
  testId?: string;
  minLines?: number;
  /** Shown, selectable and copyable, but not changed (fixed when the editor is created). */
  readOnly?: boolean;
}

export function ExpressionEditor({ value, onChange, error, placeholder, testId, minLines = 1, readOnly = false }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          history(),
          drawSelection(),
          bracketMatching(),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          jsonataLanguage,
          jsonataHighlight,
          EditorView.lineWrapping,
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          placeholderExt(placeholder || ""),
          EditorView.theme({ ".cm-content": { minHeight: `${minLines * 1.45}em` } }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChangeRef.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
    // the editor is created once; later value changes are pushed in below
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const len = v.state.doc.length;
    if (!error) {
      v.dispatch(setDiagnostics(v.state, []));
      return;
    }
    // JSONata reports the offset just past the offending token; mark the character before it
    const end = Math.min(Math.max(error.position ?? len, 1), len);
    const from = Math.max(0, end - 1);
    v.dispatch(setDiagnostics(v.state, [{ from, to: Math.max(end, from + (len ? 1 : 0)), severity: "error", message: error.message }]));
  }, [error, value]);

  return <div className="expr-editor" ref={host} data-testid={testId} />;
}
