-- A run put away on purpose (`workbench archive RUN`): `runs` lists it only when asked
-- (--archived), and `doctor` stops proposing to resume it. Nothing of it is deleted; `archive
-- --undo` brings it back.
ALTER TABLE runs ADD COLUMN archived_at TIMESTAMP;
ALTER TABLE runs ADD COLUMN archive_note VARCHAR;
