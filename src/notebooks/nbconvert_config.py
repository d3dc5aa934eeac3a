# Configuration for `jupyter nbconvert --execute`, loaded by run-notebooks.ts with --config.
# nbconvert alone reports a failing tslab cell as an empty "<Error>:" (tslab writes the message to the
# cell's stderr stream, which nbconvert discards with the notebook). These hooks print one line per event,
# prefixed "@@dmm ", that the runner reads: the cell being run (for live progress), the failing cell's
# number and error text, and where the partially executed notebook was saved.
import json
import os
import sys

import nbformat

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

_PREFIX = '@@dmm '
_failed_path = os.environ.get('DMM_FAILED_NOTEBOOK')
_state = {}


def _emit(event, **fields):
    sys.stderr.write(_PREFIX + json.dumps(dict(event=event, **fields)) + '\n')
    sys.stderr.flush()


def _text(outputs):
    parts = []
    for out in outputs:
        if out.get('output_type') == 'stream' and out.get('name') == 'stderr':
            parts.append(out.get('text', ''))
        elif out.get('output_type') == 'error':
            parts.append('\n'.join(out.get('traceback') or [f"{out.get('ename', '')}: {out.get('evalue', '')}"]))
    return ''.join(parts).strip()


def _on_notebook_start(notebook, **_):
    _state['notebook'] = notebook


def _on_cell_execute(cell, cell_index, **_):
    _emit('cell', index=cell_index)


def _on_cell_error(cell, cell_index, execute_reply=None, **_):
    content = (execute_reply or {}).get('content', {})
    text = _text(cell.get('outputs', [])) or f"{content.get('ename', '')}: {content.get('evalue', '')}".strip(': ')
    _emit('error', index=cell_index, source=cell.get('source', ''), text=text)
    # nbconvert writes nothing when a cell fails; keep the partial notebook for inspection.
    if _failed_path and 'notebook' in _state:
        os.makedirs(os.path.dirname(_failed_path), exist_ok=True)
        nbformat.write(_state['notebook'], _failed_path)
        _emit('saved', path=_failed_path)


c.ExecutePreprocessor.on_cell_execute = _on_cell_execute
c.ExecutePreprocessor.on_cell_error = _on_cell_error
c.ExecutePreprocessor.on_notebook_start = _on_notebook_start
