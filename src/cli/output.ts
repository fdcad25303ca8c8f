/**
 * Writing to stdout/stderr and waiting until the text is handed to the OS, so that a
 * `process.exit` right after cannot cut off the end of a job's output.
 */
function write(stream: NodeJS.WriteStream, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

export const writeOut = (text: string | Uint8Array) => write(process.stdout, text);
export const writeErr = (text: string | Uint8Array) => write(process.stderr, text);
