-- One row per sample and grading: the raw text, the answer the map B extracted, its class (id,
-- canonical form, key), the class's verdict and the judge that gave it. `workbench samples`
-- reads it; filter by grading_id and question_id.
CREATE OR REPLACE VIEW sample_grades AS
SELECT g.run_id, g.grading_id, g.judge, s.question_id, s.sample_idx, s.text, s.finish_reason,
       s.n_tokens, c.extracted AS answer, c.class_id, k.canonical, k.class_key,
       k.n_samples AS class_size, k.correct
FROM gradings g
JOIN samples s ON s.run_id = g.run_id
LEFT JOIN sample_classes c ON c.grading_id = g.grading_id AND c.question_id = s.question_id
                          AND c.sample_idx = s.sample_idx
LEFT JOIN class_grades k ON k.grading_id = g.grading_id AND k.question_id = s.question_id
                        AND k.class_id = c.class_id;
