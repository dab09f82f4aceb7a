-- The device a local run sampled on (cpu, cuda:N, mps), resolved from `--device auto` before the
-- run was recorded. Runs recorded before this ran on the CPU.
ALTER TABLE runs ADD COLUMN device VARCHAR;
UPDATE runs SET device = 'cpu' WHERE backend = 'transformers';
