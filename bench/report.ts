/** The end of a run: a table for the terminal and a hand-written SVG chart. */
import type { SteadyResult } from "./protocol.ts";

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join("  ");
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

export const ms = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

export interface ChartSeries {
  name: string;
  dashed: boolean;
  steps: SteadyResult[];
}

const PERCENTILES = [
  { key: "p50", color: "#2b8a3e" },
  { key: "p95", color: "#e67700" },
  { key: "p99", color: "#c92a2a" },
] as const;

/** Latency percentiles (log scale) against offered load, one line style per server. */
export function chart(series: ChartSeries[], title: string, boundMs = 100): string {
  const width = 760;
  const height = 440;
  const left = 70;
  const right = 190;
  const top = 50;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = series.flatMap((s) => s.steps);
  const maxRate = Math.max(1, ...all.map((step) => step.offeredRate));
  const xMax = niceCeil(maxRate);
  const values = all.flatMap((step) => [step.latency.p50, step.latency.p95, step.latency.p99]).filter((v) => v > 0);
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(1, ...values))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(boundMs * 2, ...values)));
  const x = (rate: number) => left + (rate / xMax) * plotW;
  const y = (latency: number) =>
    top +
    plotH -
    ((Math.log10(Math.max(latency, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2 - right / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
  );
  for (let decade = yMin; decade <= yMax; decade *= 10) {
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(decade)}" y2="${y(decade)}" stroke="#e9ecef"/>`,
      `<text x="${left - 8}" y="${y(decade) + 4}" text-anchor="end">${decade >= 1 ? decade : decade.toFixed(1)} ms</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const rate = (xMax / 5) * i;
    parts.push(
      `<line x1="${x(rate)}" x2="${x(rate)}" y1="${top}" y2="${top + plotH}" stroke="#f1f3f5"/>`,
      `<text x="${x(rate)}" y="${top + plotH + 18}" text-anchor="middle">${rate.toLocaleString("en")}</text>`,
    );
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#868e96"/>`,
    `<text x="${left + plotW / 2}" y="${height - 18}" text-anchor="middle">offered load (messages/s)</text>`,
    `<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">send → receive latency</text>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${y(boundMs)}" y2="${y(boundMs)}" stroke="#495057" stroke-dasharray="2 4"/>`,
    `<text x="${left + plotW - 4}" y="${y(boundMs) - 5}" text-anchor="end" fill="#495057">${boundMs} ms bound</text>`,
  );
  let legendY = top + 6;
  for (const s of series) {
    parts.push(`<text x="${left + plotW + 16}" y="${legendY + 4}" font-weight="600">${escapeXml(s.name)}</text>`);
    legendY += 18;
    for (const { key, color } of PERCENTILES) {
      const points = s.steps.map((step) => `${x(step.offeredRate).toFixed(1)},${y(step.latency[key]).toFixed(1)}`);
      const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
      parts.push(`<polyline points="${points.join(" ")}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
      for (const point of points) {
        const [px, py] = point.split(",");
        parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${s.dashed ? "#fff" : color}" stroke="${color}"/>`);
      }
      parts.push(
        `<line x1="${left + plotW + 16}" x2="${left + plotW + 46}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${dash}/>`,
        `<text x="${left + plotW + 52}" y="${legendY + 4}">${key}</text>`,
      );
      legendY += 16;
    }
    legendY += 10;
  }
  parts.push("</svg>");
  return parts.join("\n");
}

function niceCeil(value: number) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function escapeXml(text: string) {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
