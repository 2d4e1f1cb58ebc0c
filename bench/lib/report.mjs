// Output of a run: the console table, docs/performance.svg, and the generated block of
// docs/performance.md (between the bench:results markers; the rest of that file is hand-written).

import { readFileSync, writeFileSync } from 'node:fs'

const BEGIN = '<!-- bench:results:begin (written by bench/run.mjs; edits here are overwritten) -->'
const END = '<!-- bench:results:end -->'

export function formatNs(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`
  return `${ns.toFixed(0)} ns`
}

/** Megabytes with two decimals, never "-0.00". */
export function formatMb(bytes) {
  const text = (bytes / 1048576).toFixed(2)
  return text === '-0.00' ? '0.00' : text
}

export function verdict(row) {
  return row.direction === 'min' ? row.ratio >= row.target : row.ratio <= row.target
}

function escapeXml(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
}

/**
 * A horizontal bar chart of cost relative to the floor (1.0 = the floor). Throughput figures are
 * drawn as their inverse (time per request), so that shorter is better on every row.
 */
export function renderSvg(rows, { title, subtitle }) {
  const bars = rows.map((row) => {
    const inverse = row.direction === 'min'
    return {
      label: row.chartLabel ?? row.label,
      value: inverse ? 1 / row.ratio : row.ratio,
      target: inverse ? 1 / row.target : row.target,
      ok: verdict(row),
      text: inverse ? `${(1 / row.ratio).toFixed(2)}× (throughput ${row.ratio.toFixed(2)}×)` : `${row.ratio.toFixed(2)}×`,
    }
  })
  // About 7 px per character of 13 px system-ui text.
  const labelWidth = Math.max(160, Math.ceil(16 + 7.2 * Math.max(...bars.map((b) => b.label.length))))
  const plotWidth = 420
  const rowHeight = 30
  const top = 58
  const width = labelWidth + plotWidth + 210
  const height = top + bars.length * rowHeight + 64
  const max = Math.max(2, Math.ceil(Math.max(...bars.map((b) => Math.max(b.value, b.target))) * 2) / 2)
  const x = (v) => labelWidth + (v / max) * plotWidth
  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`)
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`)
  out.push(`<text x="12" y="22" font-size="16" font-weight="600">${escapeXml(title)}</text>`)
  out.push(`<text x="12" y="42" fill="#555">${escapeXml(subtitle)}</text>`)
  const axisY = top + bars.length * rowHeight + 4
  for (let v = 0; v <= max + 1e-9; v += 0.5) {
    out.push(`<line x1="${x(v)}" y1="${top - 6}" x2="${x(v)}" y2="${axisY}" stroke="${v === 1 ? '#333' : '#e3e3e3'}" stroke-width="${v === 1 ? 1.5 : 1}"/>`)
    out.push(`<text x="${x(v)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${v.toFixed(1)}×</text>`)
  }
  out.push(`<text x="${labelWidth}" y="${axisY + 34}" fill="#333">Cost relative to the floor (1.0×); shorter is better. Black ticks: targets; red: missed.</text>`)
  out.push(`<text x="${labelWidth}" y="${axisY + 52}" fill="#333">node:http: time per request with sessions ÷ without (= 1 ÷ throughput ratio).</text>`)
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight
    const color = bar.ok ? '#2e8b57' : '#d0473a'
    out.push(`<text x="${labelWidth - 10}" y="${y + 17}" text-anchor="end">${escapeXml(bar.label)}</text>`)
    out.push(`<rect x="${labelWidth}" y="${y + 5}" width="${Math.max(1, x(bar.value) - labelWidth).toFixed(1)}" height="${rowHeight - 12}" fill="${color}" rx="2"/>`)
    out.push(`<line x1="${x(bar.target).toFixed(1)}" y1="${y + 1}" x2="${x(bar.target).toFixed(1)}" y2="${y + rowHeight - 3}" stroke="#111" stroke-width="2"/>`)
    out.push(`<text x="${(x(Math.max(bar.value, bar.target)) + 8).toFixed(1)}" y="${y + 17}" fill="${color}" font-weight="600">${escapeXml(bar.text)}${bar.ok ? '' : ' ✗'}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

export function markdownBlock(result) {
  const lines = [BEGIN, '']
  lines.push(`Latest run: ${result.date}, ${result.machine}. Method below; \`npm run bench\` regenerates this block and the chart.`)
  lines.push('')
  lines.push('![Frasco vs the floor](performance.svg)')
  lines.push('')
  lines.push('| # | figure | Frasco | floor | ratio (IQR) | best rounds | target | met |')
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | :---: |')
  for (const row of result.rows) {
    const spread = row.ratioLow === undefined ? '' : ` (${row.ratioLow.toFixed(2)}–${row.ratioHigh.toFixed(2)})`
    const best = row.ratioBest === undefined ? '' : `${row.ratioBest.toFixed(2)}×`
    lines.push(`| ${row.n} | ${row.label} | ${row.frascoText} | ${row.floorText} | **${row.ratio.toFixed(2)}×**${spread} | ${best} | ${row.direction === 'min' ? '≥' : '≤'} ${row.target}× | ${verdict(row) ? 'yes' : '**no**'} |`)
  }
  if (result.heap !== undefined) {
    const h = result.heap
    lines.push(`| 6 | heap, ${h.total.toLocaleString('en')} round trips | ${h.samples.map((s) => `${formatMb(s.bytes)} MB`).join(' → ')} | | growth ${formatMb(h.growth)} MB | | < 1 MB | ${h.stable ? 'yes' : '**no**'} |`)
  }
  if (result.size !== undefined) {
    const typical = result.size.results.find((r) => r.id === 'typical')
    const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`
    lines.push(`| 7 | size: typical app's import, min+gzip | ${kb(typical.gzipped)} | | | | ≤ ${kb(result.size.budget)} | ${result.size.met ? 'yes' : '**no**'} |`)
  }
  lines.push('')
  lines.push(...result.notes.map((note) => `- ${note}`))
  if (result.size !== undefined) {
    lines.push('', `**Size** (7; \`bench/size.mjs\`: esbuild, minified, gzip level 9, 1 KB = 1,000 bytes; the peers with their dependencies): ${result.size.summary}.`, '')
    lines.push(result.size.table)
  }
  lines.push('', END)
  return lines.join('\n')
}

export function updateMarkdown(path, block) {
  let text
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    text = `# Performance\n\n${BEGIN}\n${END}\n`
  }
  const begin = text.indexOf(BEGIN)
  const end = text.indexOf(END)
  if (begin === -1 || end === -1) text = `${text.trimEnd()}\n\n${block}\n`
  else text = text.slice(0, begin) + block + text.slice(end + END.length)
  writeFileSync(path, text)
}
