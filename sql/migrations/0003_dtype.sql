-- The dtype a local model ran in (float32 reproduces the checkpoint; bfloat16 is faster on CPUs
-- with bf16 units and rounds weights and activations).
ALTER TABLE runs ADD COLUMN dtype VARCHAR DEFAULT 'float32';
