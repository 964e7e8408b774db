import type { AgentRunner } from './runner.js';

/**
 * The default runner: calls no model. It answers with a summary of the prompt it was handed,
 * which is what the demo and the tests need to see that the right prompt arrived.
 */
const summaryRunner: AgentRunner = {
  run({ agentType, prompt, taskDescription }) {
    const heading = prompt.split('\n').find((line) => line.trim() !== '') ?? '';
    return {
      output: `${agentType} received "${taskDescription}": ${prompt.length} characters, starting "${heading.slice(0, 60)}"`,
      details: { promptChars: prompt.length, promptBytes: Buffer.byteLength(prompt), lines: prompt.split('\n').length },
    };
  },
};

export default summaryRunner;
