/** The child of the child_process peer: sends every message straight back. */
process.on('message', (m) => process.send!(m));
process.on('disconnect', () => process.exit(0));
