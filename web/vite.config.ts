// Builds the canvas into web/static/app, served by web/canvas.py; the committed bundle must match these sources.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "/static/app/",
  build: {
    outDir: "static/app",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 900,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:5000" },
  },
});
