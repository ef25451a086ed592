import React from "react";

export function Banner({ html }: { html: string }) {
  // ruleid: js-react-dangerously-set-inner-html
  return <div role="note" dangerouslySetInnerHTML={{ __html: html }} />;
}

export function Plain({ text }: { text: string }) {
  // ok: js-react-dangerously-set-inner-html
  return <div role="note">{text}</div>;
}
