/** scrapeMetrics reads a service's GET /metrics into "name{labels}" → value (tests and the benchmark). */
export async function scrapeMetrics(httpBaseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${httpBaseUrl}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line !== "" && !line.startsWith("#")) {
      const space = line.lastIndexOf(" ");
      samples.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
  }
  return samples;
}
