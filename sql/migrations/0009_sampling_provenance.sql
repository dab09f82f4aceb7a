-- How a run's samples were really drawn. A server decides what it does with the sampling fields
-- a request leaves out (llama.cpp: top-k 40, min-p 0.05; vLLM: the model's generation config),
-- so a remote run records the server family it talked to, the exact sampling fields it sent
-- (JSON), and a note when that family cannot be told to sample the recorded distribution.
ALTER TABLE runs ADD COLUMN server_family VARCHAR;
ALTER TABLE runs ADD COLUMN request_params VARCHAR;
ALTER TABLE runs ADD COLUMN sampling_note VARCHAR;
