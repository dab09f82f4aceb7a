"""A run whose samples mostly hit their token budget says so when it ends: a low smECE then may
only mean that many questions went unanswered (43.5% of a chat model's concise samples did,
shown only in a footer line)."""

import json

from tests.helpers import query
from workbench import api


def test_a_run_cut_by_its_budget_says_so(tiny_model, small_dataset, db_path, mlflow_uri):
    said: list[str] = []
    run_id = api.generate(api.GenerateRequest(str(tiny_model), str(small_dataset), samples=4,
                                              shots=2, max_new_tokens=1),
                          db_path=db_path, mlflow_uri=mlflow_uri, log=said.append)
    stats = json.loads(query(db_path, "SELECT stats FROM runs WHERE run_id = ?", [run_id])[0][0])
    assert stats["truncated_share"] > 0.10
    warned = [s for s in said if s.startswith("warning:")]
    assert warned == [f"warning: {stats['truncated_share']:.1%} of this run's samples hit the "
                      "1-token budget before they ended; one cut off before its answer counts "
                      "as no answer (--max-new-tokens)"]
