/**
 * The emphasis parser against ComfyUI's `token_weights(escape_important(text), 1.0)` followed by
 * `unescape_important` (`comfy/sd1_clip.py`, 0.3.64). Each expected list was worked out by hand by stepping
 * through that Python code, including its quirks: `(a:1.5)` sets rather than multiplies, a weight that does
 * not parse stays text, a colon first in the group is text, unbalanced parentheses stay text.
 */
import { describe, expect, it } from 'vitest'
import { applyTokenWeights, parseGroups, parsePromptWeights, pythonFloat } from './prompt-weights.js'

const cases: [string, [string, number][]][] = [
  ['a tree', [['a tree', 1]]],
  [
    '(masterpiece) a tree',
    [
      ['masterpiece', 1.1],
      [' a tree', 1],
    ],
  ],
  [
    'a (b:1.3) c',
    [
      ['a ', 1],
      ['b', 1.3],
      [' c', 1],
    ],
  ],
  [
    '((a)) b',
    [
      ['a', 1.1 * 1.1],
      [' b', 1],
    ],
  ],
  [
    '((a:1.5) b)',
    [
      ['a', 1.5],
      [' b', 1.1],
    ],
  ],
  ['(a:1.2:0.5)', [['a:1.2', 0.5]]],
  [
    '\\(literal\\) (x)',
    [
      ['(literal) ', 1],
      ['x', 1.1],
    ],
  ],
  ['(:1.3)', [[':1.3', 1.1]]],
  [
    'a (b c',
    [
      ['a ', 1],
      ['(b c', 1],
    ],
  ],
  ['a) (b', [['a) (b', 1]]],
  ['(a:x)', [['a:x', 1.1]]],
  [
    'a () b',
    [
      ['a ', 1],
      [' b', 1],
    ],
  ],
  ['(a: 1.3 )', [['a', 1.3]]],
  ['(a:1_0)', [['a', 10]]],
  ['(a:-1)', [['a', -1]]],
  [
    '(a (b:0.5) c:1.4)',
    [
      ['a ', 1.4],
      ['b', 0.5],
      [' c', 1.4],
    ],
  ],
]

describe('parsePromptWeights: ComfyUI token_weights', () => {
  it.each(cases)('%j', (prompt, expected) => {
    expect(parsePromptWeights(prompt).map((s) => [s.text, s.weight])).toEqual(expected)
  })

  it('parse_parentheses keeps groups and the text between them', () => {
    expect(parseGroups('a (b (c)) d) (e')).toEqual(['a ', '(b (c))', ' d) (e'])
  })
})

describe("A1111's [word] (ComfyUI reads square brackets as text)", () => {
  it.each([
    [
      '[a] b',
      [
        ['a', 1 / 1.1],
        [' b', 1],
      ],
    ],
    ['[[a]]', [['a', 1 / 1.1 / 1.1]]],
    ['([a])', [['a', (1 * 1.1) / 1.1]]],
    ['[(a:1.5)]', [['a', 1.5]]],
    ['\\[a\\]', [['[a]', 1]]],
    ['[a:1.5]', [['a:1.5', 1 / 1.1]]],
  ] as [string, [string, number][]][])('%j', (prompt, expected) => {
    expect(parsePromptWeights(prompt).map((s) => [s.text, s.weight])).toEqual(expected)
  })
})

describe('pythonFloat', () => {
  it('reads what float() reads and nothing else', () => {
    expect(pythonFloat(' 1.5 ')).toBe(1.5)
    expect(pythonFloat('.5')).toBe(0.5)
    expect(pythonFloat('1.')).toBe(1)
    expect(pythonFloat('1e1')).toBe(10)
    expect(pythonFloat('-inf')).toBe(-Infinity)
    expect(pythonFloat('1__0')).toBeUndefined()
    expect(pythonFloat('')).toBeUndefined()
    expect(pythonFloat('1.5) b')).toBeUndefined()
  })
})

describe('applyTokenWeights: (z − z_empty)·w + z_empty per token', () => {
  it('changes only the positions whose weight is not 1', () => {
    const states = Float32Array.from([1, 2, 3, 4, 5, 6])
    const empty = Float32Array.from([0.5, 0.5, 1, 1, 2, 2])
    const out = applyTokenWeights(states, empty, [1, 1.5, 0.5], 2)
    expect(Array.from(out)).toEqual([1, 2, 4, 5.5, 3.5, 4])
    expect(() => applyTokenWeights(states, empty, [1, 1], 2)).toThrow(RangeError)
  })
})
