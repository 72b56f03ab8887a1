export default function (component) {
  registerPoints(component.data);
  component.parentElement.innerHTML = "";
}
