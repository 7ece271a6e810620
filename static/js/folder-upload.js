// The server keeps only the last part of each file name: send each file's path beside it.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("folder-form");
  if (!form) return;
  form.addEventListener("submit", () => {
    form.querySelectorAll("input[name=paths]").forEach((input) => input.remove());
    for (const file of form.querySelector("input[type=file]").files) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "paths";
      input.value = file.webkitRelativePath || file.name;
      form.appendChild(input);
    }
  });
});
