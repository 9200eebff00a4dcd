// Non-TS files the bundler embeds: binary files resolve to a path, text files to their content.
declare module "*.so" {
  const path: string;
  export default path;
}
declare module "*.eta" {
  const text: string;
  export default text;
}
declare module "*.py" {
  const text: string;
  export default text;
}
