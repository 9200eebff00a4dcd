// Report assets imported as text (`with { type: "text" }`) and inlined into the HTML report.
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*.client.js" {
  const text: string;
  export default text;
}
